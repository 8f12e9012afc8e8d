package dev.sluice.config;

import dev.sluice.api.config.ConfigException;

/**
 * A {@link ConfigException} in a named source (a file, or {@code --config-yaml}): the message reads
 * {@code SOURCE: field.path: reason}, the field path stays the proto path inside the source.
 */
public final class ConfigSourceException extends ConfigException {
  private static final long serialVersionUID = 1L;
  private final String source;

  public ConfigSourceException(String source, ConfigException cause) {
    super(cause.fieldPath(), reasonOf(cause), cause);
    this.source = source;
  }

  public ConfigSourceException(String source, String reason, Throwable cause) {
    super("", reason, cause);
    this.source = source;
  }

  /** The file path or flag the bad config came from. */
  public String source() {
    return source;
  }

  @Override
  public String getMessage() {
    return source + ": " + super.getMessage();
  }

  private static String reasonOf(ConfigException e) {
    String m = String.valueOf(e.getMessage());
    return e.fieldPath().isEmpty() ? m : m.substring(e.fieldPath().length() + 2);
  }
}
