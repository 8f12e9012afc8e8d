package dev.sluice.accesslog;

import com.google.protobuf.Struct;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * A compiled {@code envoy.config.core.v3.SubstitutionFormatString}: the formatter and the content
 * type Envoy pairs with it ({@code text/plain} or {@code application/json} unless configured).
 */
public record SubstitutionFormatConfig(SubstitutionFormatter formatter, String contentType) {
  /** Envoy's default access log format, used when a logger has no {@code log_format}. */
  public static final String DEFAULT_FORMAT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
          + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
          + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
          + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

  /**
   * Formatter extensions whose operators are built in here ({@code %REQ_WITHOUT_QUERY%},
   * {@code %METADATA%}, {@code %CEL%}); Istio adds the first when its format uses it.
   */
  private static final Set<String> BUILT_IN_FORMATTER_TYPES =
      Set.of(
          "type.googleapis.com/envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery",
          "type.googleapis.com/envoy.extensions.formatter.metadata.v3.Metadata",
          "type.googleapis.com/envoy.extensions.formatter.cel.v3.Cel");

  private static final SubstitutionFormatter DEFAULT = SubstitutionFormatter.compile(DEFAULT_FORMAT);

  /** The formatter for Envoy's default format. */
  public static SubstitutionFormatter defaultFormatter() {
    return DEFAULT;
  }

  /**
   * Compiles a SubstitutionFormatString. Field paths in errors are relative to it (e.g.
   * {@code text_format_source.inline_string}); callers prefix with {@link ConfigException#under}.
   */
  public static SubstitutionFormatConfig compile(SubstitutionFormatString config) {
    for (int i = 0; i < config.getFormattersCount(); i++) {
      TypedExtensionConfig f = config.getFormatters(i);
      if (!BUILT_IN_FORMATTER_TYPES.contains(f.getTypedConfig().getTypeUrl())) {
        throw new ConfigException(
            "formatters[" + i + "]",
            "unsupported formatter extension '" + f.getName() + "' (" + f.getTypedConfig().getTypeUrl() + ")");
      }
    }
    boolean omit = config.getOmitEmptyValues();
    return switch (config.getFormatCase()) {
      case TEXT_FORMAT ->
          new SubstitutionFormatConfig(
              text(config.getTextFormat(), omit, "text_format"), contentType(config, "text/plain"));
      case TEXT_FORMAT_SOURCE ->
          new SubstitutionFormatConfig(
              text(dataSource(config.getTextFormatSource(), "text_format_source"), omit, "text_format_source"),
              contentType(config, "text/plain"));
      case JSON_FORMAT ->
          new SubstitutionFormatConfig(
              json(config.getJsonFormat(), true, omit, config.getJsonFormatOptions().getSortProperties(), "json_format"),
              contentType(config, "application/json"));
      case FORMAT_NOT_SET -> throw new ConfigException("format", "one of text_format, text_format_source or json_format is required");
    };
  }

  /** A text format string; errors carry {@code fieldPath}. */
  public static SubstitutionFormatter text(String format, boolean omitEmptyValues, String fieldPath) {
    try {
      return SubstitutionFormatter.compile(format, omitEmptyValues);
    } catch (ConfigException e) {
      throw e.under(fieldPath);
    }
  }

  /** A format dictionary; {@code typed} false gives the legacy all-strings {@code json_format}. */
  public static SubstitutionFormatter json(
      Struct format, boolean typed, boolean omitEmptyValues, boolean sortProperties, String fieldPath) {
    try {
      return JsonFormatter.compile(format, typed, omitEmptyValues, sortProperties);
    } catch (ConfigException e) {
      throw e.under(fieldPath);
    }
  }

  private static String contentType(SubstitutionFormatString config, String fallback) {
    return config.getContentType().isEmpty() ? fallback : config.getContentType();
  }

  /** Reads a DataSource at config time, as Envoy does. */
  private static String dataSource(DataSource source, String fieldPath) {
    return switch (source.getSpecifierCase()) {
      case INLINE_STRING -> source.getInlineString();
      case INLINE_BYTES -> source.getInlineBytes().toStringUtf8();
      case FILENAME -> {
        try {
          yield Files.readString(Path.of(source.getFilename()));
        } catch (IOException | RuntimeException e) {
          throw new ConfigException(fieldPath + ".filename", "cannot read '" + source.getFilename() + "': " + e.getMessage());
        }
      }
      case ENVIRONMENT_VARIABLE -> {
        String v = System.getenv(source.getEnvironmentVariable());
        if (v == null) {
          throw new ConfigException(
              fieldPath + ".environment_variable", "environment variable '" + source.getEnvironmentVariable() + "' is not set");
        }
        yield v;
      }
      case SPECIFIER_NOT_SET -> throw new ConfigException(fieldPath, "a data source is required");
    };
  }
}
