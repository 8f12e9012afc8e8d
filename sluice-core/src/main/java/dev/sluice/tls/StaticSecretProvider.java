package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The bootstrap's {@code static_resources.secrets}: fixed for the life of the process, so
 * subscriptions never fire. Each secret is validated once here, so a bad one stops start-up with its
 * field path rather than failing connections later.
 */
public final class StaticSecretProvider implements SecretProvider {
  private final Map<String, Secret> secrets;

  /** @throws ConfigException naming {@code static_resources.secrets[i]} for a bad or duplicate secret */
  public StaticSecretProvider(List<Secret> secrets) {
    Map<String, Secret> map = new HashMap<>();
    for (int i = 0; i < secrets.size(); i++) {
      Secret s = secrets.get(i);
      String path = "static_resources.secrets[" + i + "]";
      if (s.getName().isEmpty()) {
        throw new ConfigException(path + ".name", "a static secret needs a name");
      }
      if (map.putIfAbsent(s.getName(), s) != null) {
        throw new ConfigException(path + ".name", "duplicate static secret name '" + s.getName() + "'");
      }
      TlsSecrets.validate(s, path);
    }
    this.secrets = Map.copyOf(map);
  }

  @Override
  public @Nullable Secret secret(String name) {
    return secrets.get(name);
  }

  @Override
  public Subscription subscribe(SdsSecretConfig reference, Runnable onChange) {
    return () -> {};
  }
}
