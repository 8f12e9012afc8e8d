package dev.sluice.config;

import com.google.gson.JsonElement;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Loads the bootstrap as Envoy does: {@code -c} file (JSON, or YAML for {@code .yaml}/{@code .yml}
 * or text that is not JSON), then {@code --config-yaml} merged over it with proto MergeFrom
 * (scalars replaced, repeated fields appended), then the {@code --service-*} node overrides.
 */
public final class BootstrapLoader {
  private final ProtoTypes types;

  public BootstrapLoader(ProtoTypes types) {
    this.types = types;
  }

  /**
   * @param configPath the {@code -c} file, or null
   * @param configYaml the {@code --config-yaml} text, or null
   * @param allowUnknownFields {@code --allow-unknown-static-fields}
   * @param overrides node fields from {@code --service-node/-cluster/-zone}
   * @throws ConfigSourceException "FILE: path: reason" for the file, "--config-yaml: path: reason"
   *     for the flag
   * @throws ConfigException when neither was given
   */
  public Bootstrap load(@Nullable Path configPath, @Nullable String configYaml,
      boolean allowUnknownFields, NodeOverrides overrides) {
    if (configPath == null && (configYaml == null || configYaml.isBlank())) {
      // Envoy's wording when neither source is given.
      throw new ConfigException("", "At least one of --config-path or --config-yaml should be non-empty");
    }
    ProtoJson json = new ProtoJson(types, allowUnknownFields);
    Bootstrap.Builder bootstrap = Bootstrap.newBuilder();
    if (configPath != null) {
      bootstrap.mergeFrom(parse(json, read(configPath), isYamlName(configPath), configPath.toString()));
    }
    if (configYaml != null && !configYaml.isBlank()) {
      bootstrap.mergeFrom(parse(json, configYaml, true, "--config-yaml"));
    }
    overrides.applyTo(bootstrap.getNodeBuilder());
    return bootstrap.build();
  }

  private static Bootstrap parse(ProtoJson json, String text, boolean yaml, String source) {
    try {
      JsonElement tree = ConfigText.read(text, yaml);
      return json.parse(tree, Bootstrap.getDefaultInstance());
    } catch (ConfigException e) {
      throw new ConfigSourceException(source, e);
    }
  }

  private static boolean isYamlName(Path p) {
    String n = p.getFileName() == null ? "" : p.getFileName().toString();
    return n.endsWith(".yaml") || n.endsWith(".yml");
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigSourceException(p.toString(), "no such file", e);
    } catch (IOException e) {
      throw new ConfigSourceException(p.toString(), "cannot read: " + e, e);
    }
  }

  /** {@code --service-node}, {@code --service-cluster}, {@code --service-zone}: each replaces its node field when set. */
  public record NodeOverrides(@Nullable String id, @Nullable String cluster, @Nullable String zone) {
    public static final NodeOverrides NONE = new NodeOverrides(null, null, null);

    void applyTo(Node.Builder node) {
      if (id != null) {
        node.setId(id);
      }
      if (cluster != null) {
        node.setCluster(cluster);
      }
      if (zone != null) {
        node.getLocalityBuilder().setZone(zone);
      }
    }
  }
}
