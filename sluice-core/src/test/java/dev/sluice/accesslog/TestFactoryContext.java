package dev.sluice.accesslog;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/** A FactoryContext for access log tests: real stats, an extension registry that knows nothing. */
public final class TestFactoryContext implements FactoryContext {
  public final StatsStore stats = new StatsStore();

  @Override
  public StatsScope stats() {
    return stats;
  }

  @Override
  public ClusterManager clusterManager() {
    throw new UnsupportedOperationException();
  }

  @Override
  public ExtensionRegistry extensions() {
    return new ExtensionRegistry() {
      @Override
      public <F extends ExtensionFactory<?>> @Nullable F find(Class<F> kind, Any typedConfig, String name) {
        return null;
      }

      @Override
      public <C extends Message> C unpack(ExtensionFactory<C> factory, Any typedConfig, String fieldPath) {
        throw new UnsupportedOperationException();
      }
    };
  }

  @Override
  public AccessLogger accessLogger(List<AccessLog> configs) {
    return AccessLogs.compile(configs, this);
  }

  @Override
  public int concurrency() {
    return 1;
  }

  @Override
  public Node localNode() {
    return Node.getDefaultInstance();
  }

  @Override
  public ScheduledExecutorService controlExecutor() {
    throw new UnsupportedOperationException();
  }

  @Override
  public String listenerName() {
    return "";
  }

  @Override
  public String trafficDirection() {
    return "UNSPECIFIED";
  }
}
