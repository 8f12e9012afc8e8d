package dev.sluice.extensions.filters.http.cors;

import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.api.stats.Counter;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.cors}: the filter config is empty; policies come from the matched route's
 * {@code typed_per_filter_config} ({@code CorsPolicy}) or its legacy {@code cors} fields. Stats:
 * {@code http.<stat_prefix>.cors.origin_valid} and {@code .origin_invalid}.
 */
public final class CorsFilterFactory implements HttpFilterFactory<Cors> {
  public static final String NAME = "envoy.filters.http.cors";

  private final LongSupplier random;

  public CorsFilterFactory() {
    this(() -> ThreadLocalRandom.current().nextLong());
  }

  /** @param random the source for {@code filter_enabled}/{@code shadow_enabled} fractions (tests inject one) */
  CorsFilterFactory(LongSupplier random) {
    this.random = random;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.cors");
  }

  @Override
  public Class<Cors> configType() {
    return Cors.class;
  }

  @Override
  public Cors defaultInstance() {
    return Cors.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(Cors config, String statPrefix, FactoryContext context) {
    Counter valid = context.stats().counter(statPrefix + "cors.origin_valid");
    Counter invalid = context.stats().counter(statPrefix + "cors.origin_invalid");
    return () -> new CorsFilter(valid, invalid, random);
  }

  @Override
  public Object createRouteSpecificConfig(Message config, FactoryContext context) {
    return compilePolicy(config);
  }

  /** Compiles a per-route {@code CorsPolicy} (also usable without a FactoryContext, e.g. in tests). */
  public static Object compilePolicy(Message config) {
    if (config instanceof CorsPolicy p) {
      return CorsPolicyConfig.compile(p, "");
    }
    throw new ConfigException(
        "", "expected " + CorsPolicy.getDescriptor().getFullName() + " but got " + config.getDescriptorForType().getFullName());
  }
}
