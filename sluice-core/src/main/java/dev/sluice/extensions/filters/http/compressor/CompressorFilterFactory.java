package dev.sluice.extensions.filters.http.compressor;

import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.api.stats.StatsScope;
import io.envoyproxy.envoy.config.core.v3.RuntimeFeatureFlag;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.extensions.filters.http.compressor.v3.Compressor;
import io.envoyproxy.envoy.extensions.filters.http.compressor.v3.CompressorPerRoute;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.compressor}. The library ({@code compressor_library}) is an extension of
 * its own ({@link CompressorLibraryFactory}). Stats are rooted at
 * {@code http.<stat_prefix>.compressor.<library name>.<library stats prefix>.} and then
 * {@code response.} / {@code request.} (responses stay at the root when the deprecated top-level
 * fields are used instead of {@code response_direction_config}, as Envoy's legacy tree).
 * Per-route {@code CompressorPerRoute} is looked up under the filter's name in {@code http_filters}.
 */
public final class CompressorFilterFactory implements HttpFilterFactory<Compressor> {
  public static final String NAME = "envoy.filters.http.compressor";
  private static final int DEFAULT_MIN_CONTENT_LENGTH = 30;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Class<Compressor> configType() {
    return Compressor.class;
  }

  @Override
  public Compressor defaultInstance() {
    return Compressor.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(Compressor config, String statPrefix, FactoryContext context) {
    CompressorLibrary library = library(config, context);
    String libraryName = config.getCompressorLibrary().getName();
    StatsScope root = context.stats().scope(statPrefix + "compressor." + libraryName + "." + library.statsPrefix() + ".");

    ResponseConfig response;
    if (config.hasResponseDirectionConfig()) {
      Compressor.ResponseDirectionConfig r = config.getResponseDirectionConfig();
      StatsScope scope = root.scope("response.");
      response = new ResponseConfig(
          direction(r.getCommonConfig(), scope, "response_direction_config.common_config"),
          r.getDisableOnEtagHeader(), r.getRemoveAcceptEncodingHeader(),
          codes(r.getUncompressibleResponseCodesList()), new ResponseStats(scope));
    } else {
      // The deprecated top-level fields, with the stats in the legacy tree (no direction).
      DirectionStats stats = new DirectionStats(root);
      DirectionConfig common = new DirectionConfig(enabled(config.hasRuntimeEnabled(), config.getRuntimeEnabled()),
          config.hasContentLength() ? config.getContentLength().getValue() : DEFAULT_MIN_CONTENT_LENGTH,
          contentTypes(config.getContentTypeList()), stats);
      response = new ResponseConfig(common, config.getDisableOnEtagHeader(), config.getRemoveAcceptEncodingHeader(),
          Set.of(), new ResponseStats(root));
    }
    DirectionConfig request = config.hasRequestDirectionConfig()
        ? direction(config.getRequestDirectionConfig().getCommonConfig(), root.scope("request."),
            "request_direction_config.common_config")
        : null;
    CompressorChain chain = CompressorChain.of(context, statPrefix);
    chain.add(library.contentEncoding(), config.getChooseFirst());
    CompressorConfig compiled = new CompressorConfig(library, request, response, chain);
    return () -> new CompressorFilter(compiled);
  }

  private static CompressorLibrary library(Compressor config, FactoryContext context) {
    if (!config.hasCompressorLibrary()) {
      throw new ConfigException("compressor_library", "a compressor library is required");
    }
    TypedExtensionConfig lib = config.getCompressorLibrary();
    if (lib.getName().isEmpty()) {
      throw new ConfigException("compressor_library.name", "value length must be at least 1 characters");
    }
    @SuppressWarnings("unchecked")
    CompressorLibraryFactory<Message> factory =
        context.extensions().find(CompressorLibraryFactory.class, lib.getTypedConfig(), lib.getName());
    if (factory == null) {
      throw new ConfigException("compressor_library.typed_config", "Didn't find a registered implementation for '"
          + lib.getName() + "' with type URL: '" + lib.getTypedConfig().getTypeUrl() + "'");
    }
    Message parsed = context.extensions().unpack(factory, lib.getTypedConfig(), "compressor_library.typed_config");
    try {
      return factory.create(parsed);
    } catch (ConfigException e) {
      throw e.under("compressor_library.typed_config");
    }
  }

  private static DirectionConfig direction(Compressor.CommonDirectionConfig c, StatsScope scope, String path) {
    return new DirectionConfig(enabled(c.hasEnabled(), c.getEnabled()),
        c.hasMinContentLength() ? c.getMinContentLength().getValue() & 0xFFFFFFFFL : DEFAULT_MIN_CONTENT_LENGTH,
        contentTypes(c.getContentTypeList()), new DirectionStats(scope));
  }

  /** A runtime flag's default value; runtime keys are not consulted (no runtime overrides yet). */
  private static boolean enabled(boolean set, RuntimeFeatureFlag flag) {
    return !set || !flag.hasDefaultValue() || flag.getDefaultValue().getValue();
  }

  private static Set<String> contentTypes(List<String> configured) {
    if (configured.isEmpty()) {
      return DirectionConfig.DEFAULT_CONTENT_TYPES;
    }
    Set<String> types = new HashSet<>();
    for (String t : configured) {
      int semi = t.indexOf(';');
      types.add((semi < 0 ? t : t.substring(0, semi)).trim().toLowerCase(Locale.ROOT));
    }
    return types;
  }

  private static Set<Integer> codes(List<Integer> codes) {
    Set<Integer> out = new HashSet<>();
    for (int i = 0; i < codes.size(); i++) {
      int code = codes.get(i);
      if (code < 200 || code >= 600) {
        throw new ConfigException("response_direction_config.uncompressible_response_codes[" + i + "]",
            "must be in [200, 600), got " + Integer.toUnsignedString(code));
      }
      if (!out.add(code)) {
        throw new ConfigException("response_direction_config.uncompressible_response_codes[" + i + "]",
            "repeated value must contain unique items");
      }
    }
    return out;
  }

  @Override
  public Object createRouteSpecificConfig(Message config, FactoryContext context) {
    if (!(config instanceof CompressorPerRoute perRoute)) {
      return config;
    }
    return switch (perRoute.getOverrideCase()) {
      case DISABLED -> {
        if (!perRoute.getDisabled()) {
          throw new ConfigException("disabled", "value must equal true");
        }
        yield new PerRouteConfig(true, null);
      }
      case OVERRIDES -> {
        var r = perRoute.getOverrides().getResponseDirectionConfig();
        yield new PerRouteConfig(false, r.hasRemoveAcceptEncodingHeader() ? r.getRemoveAcceptEncodingHeader().getValue() : null);
      }
      case OVERRIDE_NOT_SET -> throw new ConfigException("override", "one of disabled or overrides is required");
    };
  }
}
