package dev.sluice.api.config;

/**
 * A configuration resource that cannot be used. The message names the field path (as Envoy's
 * proto validation does, e.g. {@code static_resources.clusters[0].connect_timeout}) so that a NACK
 * or a start-up error tells the operator exactly what to fix.
 */
public class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String fieldPath;

  public ConfigException(String fieldPath, String message) {
    super(fieldPath.isEmpty() ? message : fieldPath + ": " + message);
    this.fieldPath = fieldPath;
  }

  public ConfigException(String fieldPath, String message, Throwable cause) {
    super(fieldPath.isEmpty() ? message : fieldPath + ": " + message, cause);
    this.fieldPath = fieldPath;
  }

  /** The dotted proto field path of the offending value, or empty when the whole resource is bad. */
  public String fieldPath() {
    return fieldPath;
  }

  /** Returns a copy whose path is prefixed by {@code parent} (used while walking nested resources). */
  public ConfigException under(String parent) {
    String path = fieldPath.isEmpty() ? parent : parent + "." + fieldPath;
    String reason = getMessage().substring(fieldPath.isEmpty() ? 0 : fieldPath.length() + 2);
    return new ConfigException(path, reason, getCause() == null ? this : getCause());
  }
}
