package dev.sluice.extensions.filters.http.fault;

import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.fault} ({@code envoy.extensions.filters.http.fault.v3.HTTPFault}), as
 * Istio configures it: an empty filter config on every HTTP connection manager and the
 * VirtualService's fault as the route's {@code typed_per_filter_config}. Stats under
 * {@code http.<stat_prefix>.fault.}. Not applied: {@code filter_metadata} (no dynamic metadata),
 * runtime overrides (defaults apply).
 */
public final class FaultFilterFactory implements HttpFilterFactory<HTTPFault> {
  public static final String NAME = "envoy.filters.http.fault";

  private final LongSupplier random;

  public FaultFilterFactory() {
    this(() -> ThreadLocalRandom.current().nextLong());
  }

  /** @param random the source of each percentage decision (tests inject one) */
  FaultFilterFactory(LongSupplier random) {
    this.random = random;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.fault");
  }

  @Override
  public Class<HTTPFault> configType() {
    return HTTPFault.class;
  }

  @Override
  public HTTPFault defaultInstance() {
    return HTTPFault.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(HTTPFault config, String statPrefix, FactoryContext context) {
    FaultSettings settings = compile(config);
    FaultStats stats = new FaultStats(context.stats().scope(statPrefix + "fault."));
    return () -> new FaultFilter(settings, stats, random);
  }

  @Override
  public Object createRouteSpecificConfig(Message config, FactoryContext context) {
    if (config instanceof HTTPFault f) {
      return compile(f);
    }
    throw new ConfigException("", "expected " + HTTPFault.getDescriptor().getFullName() + " but got "
        + config.getDescriptorForType().getFullName());
  }

  static FaultSettings compile(HTTPFault config) {
    return FaultSettings.compile(config);
  }
}
