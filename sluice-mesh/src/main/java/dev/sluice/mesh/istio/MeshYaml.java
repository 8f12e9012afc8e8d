package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads Kubernetes-style YAML (Istio resources, {@code Service}, {@code Deployment}, ...) into
 * {@link MeshResource}s: multi-document files, or every {@code .yaml}/{@code .yml} file of a
 * directory in name order. Empty documents (a trailing {@code ---}) are skipped as kubectl does;
 * the source of each resource is {@code file#index} with the document's index in its file.
 * Object kinds that carry no {@code spec} ({@code ServiceAccount}, {@code ConfigMap}) load with an
 * empty spec.
 */
public final class MeshYaml {
  private MeshYaml() {}

  /** A file or a directory of files. */
  public static List<MeshResource> load(Path path) {
    if (Files.isDirectory(path)) {
      List<MeshResource> out = new ArrayList<>();
      try (Stream<Path> files = Files.list(path)) {
        for (Path f : files.filter(MeshYaml::isYaml).sorted().toList()) {
          out.addAll(loadFile(f));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + path, e);
      }
      return out;
    }
    return loadFile(path);
  }

  private static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return Files.isRegularFile(p) && (n.endsWith(".yaml") || n.endsWith(".yml"));
  }

  private static List<MeshResource> loadFile(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return parse(text, file.toString());
  }

  /** Parses YAML text; {@code sourceName} names it in every message and resource source. */
  public static List<MeshResource> parse(String text, String sourceName) {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<MeshResource> out = new ArrayList<>();
    int index = 0;
    try {
      for (Object doc : yaml.loadAll(text)) {
        String source = sourceName + "#" + index;
        if (doc != null) {
          out.add(resource(doc, source));
        }
        index++;
      }
    } catch (YAMLException e) {
      throw new MeshYamlException(sourceName + "#" + index + ": invalid YAML: " + e.getMessage(), e);
    }
    return out;
  }

  private static MeshResource resource(Object doc, String source) {
    if (!(doc instanceof Map<?, ?> map)) {
      throw new MeshYamlException(source + ": a document must be a mapping with apiVersion, kind, metadata");
    }
    String apiVersion = requiredString(map, "apiVersion", source);
    String kind = requiredString(map, "kind", source);
    Object metaObj = map.get("metadata");
    if (!(metaObj instanceof Map<?, ?> meta)) {
      throw new MeshYamlException(source + ": " + kind + ": metadata must be a mapping with a name");
    }
    String name = requiredString(meta, "name", source + ": " + kind + " metadata");
    Object ns = meta.get("namespace");
    String namespace = ns == null ? "default" : String.valueOf(ns);
    Map<String, String> labels = new LinkedHashMap<>();
    Object labelsObj = meta.get("labels");
    if (labelsObj instanceof Map<?, ?> l) {
      l.forEach((k, v) -> labels.put(String.valueOf(k), String.valueOf(v)));
    } else if (labelsObj != null) {
      throw new MeshYamlException(source + ": " + kind + "/" + name + ": metadata.labels must be a mapping");
    }
    Object specObj = map.get("spec");
    Map<String, Object> spec = new LinkedHashMap<>();
    if (specObj instanceof Map<?, ?> s) {
      s.forEach((k, v) -> spec.put(String.valueOf(k), v));
    } else if (specObj != null) {
      throw new MeshYamlException(source + ": " + kind + "/" + name + ": spec must be a mapping");
    }
    return new MeshResource(apiVersion, kind, namespace, name, Map.copyOf(labels), java.util.Collections.unmodifiableMap(spec), source);
  }

  private static String requiredString(Map<?, ?> map, String key, String where) {
    Object v = map.get(key);
    if (!(v instanceof String s) || s.isEmpty()) {
      throw new MeshYamlException(where + ": missing or non-string '" + key + "'");
    }
    return s;
  }
}
