package dev.sluice.tls;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import org.jspecify.annotations.Nullable;

/**
 * Where TLS contexts find the secrets their {@code *_sds_secret_config(s)} name: the bootstrap's
 * {@code static_resources.secrets} ({@link StaticSecretProvider}) or an SDS client.
 *
 * <p>A secret that is not (yet) known makes the TLS context that needs it unusable, as Envoy keeps
 * such a listener or cluster warming: connections on it are closed and counted
 * ({@code ssl.connection_error} and Envoy's {@code *_context_secrets_not_ready}). When the secret
 * arrives or changes, the context is rebuilt once, off the data path.
 */
public interface SecretProvider {
  /** The current value of secret {@code name}, or null when it is not known (yet). */
  @Nullable Secret secret(String name);

  /**
   * Starts watching the secret a context refers to. {@code reference.sds_config} tells an SDS client
   * where to fetch it (empty for a static secret). {@code onChange} runs on the provider's own thread
   * (never a worker) each time the secret is added, changed or removed; it may be called for one
   * name while another is being updated and must not block for long.
   */
  Subscription subscribe(SdsSecretConfig reference, Runnable onChange);

  /** Stops one {@link #subscribe} watch; an SDS client may drop the resource when none is left. */
  interface Subscription {
    void close();
  }

  /** No secrets at all: every reference stays unavailable. */
  SecretProvider NONE =
      new SecretProvider() {
        @Override
        public @Nullable Secret secret(String name) {
          return null;
        }

        @Override
        public Subscription subscribe(SdsSecretConfig reference, Runnable onChange) {
          return () -> {};
        }
      };
}
