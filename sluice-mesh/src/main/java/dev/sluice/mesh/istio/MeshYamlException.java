package dev.sluice.mesh.istio;

/** A YAML file or document that cannot be read as a resource; the message names the file and document ({@code file.yaml#2}). */
public final class MeshYamlException extends IllegalArgumentException {
  public MeshYamlException(String message, Throwable cause) {
    super(message, cause);
  }

  public MeshYamlException(String message) {
    super(message);
  }
}
