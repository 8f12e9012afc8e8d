package dev.sluice.config;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import dev.sluice.api.ExtensionFactory;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import java.util.List;

/** A test-only extension kind, so the test factories never collide with real ones. */
public interface TestExtensionFactory<C extends Message> extends ExtensionFactory<C> {

  /** Registered for FileAccessLog under a test name with an alias. */
  final class FileLike implements TestExtensionFactory<FileAccessLog> {
    @Override
    public String name() {
      return "test.file_like";
    }

    @Override
    public List<String> aliases() {
      return List.of("test.file_like_alias");
    }

    @Override
    public Class<FileAccessLog> configType() {
      return FileAccessLog.class;
    }

    @Override
    public FileAccessLog defaultInstance() {
      return FileAccessLog.getDefaultInstance();
    }
  }

  /** An Istio type not in the Envoy API: config carried as a Struct under Istio's type URL. */
  final class IstioStats implements TestExtensionFactory<Struct> {
    @Override
    public String name() {
      return "test.istio_stats";
    }

    @Override
    public String typeUrl() {
      return "type.googleapis.com/stats.PluginConfig";
    }

    @Override
    public Class<Struct> configType() {
      return Struct.class;
    }

    @Override
    public Struct defaultInstance() {
      return Struct.getDefaultInstance();
    }
  }
}
