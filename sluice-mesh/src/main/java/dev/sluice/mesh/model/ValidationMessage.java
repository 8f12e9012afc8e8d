package dev.sluice.mesh.model;

/**
 * One finding of validation, as {@code istioctl analyze} prints it: where ({@code source} file and
 * document, resource key, field path such as {@code spec.http[0].route[1].destination.subset}) and
 * what. Errors block a push; warnings do not.
 */
public record ValidationMessage(Level level, String source, String resource, String field, String message) {
  public enum Level { ERROR, WARNING }

  @Override
  public String toString() {
    return level + " [" + source + "] " + resource + " " + field + ": " + message;
  }
}
