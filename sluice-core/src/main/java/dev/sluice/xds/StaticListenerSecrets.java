package dev.sluice.xds;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The SDS secrets the bootstrap's static listeners name, waited for before those listeners take
 * connections: as Envoy's server init, which holds the static listeners (and LIVE) until each
 * secret has arrived or passed its {@code initial_fetch_timeout}. Without it a static TLS listener
 * would be bound at once and fail every handshake until its certificate came. Control thread.
 */
public final class StaticListenerSecrets implements AutoCloseable {
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private @Nullable SecretWait wait;

  private StaticListenerSecrets() {}

  /** Subscribes to every SDS secret {@code listeners} name (control thread). */
  public static StaticListenerSecrets await(SdsSecretProvider secrets, List<Listener> listeners) {
    List<SdsSecretConfig> references = new ArrayList<>();
    listeners.forEach(l -> references.addAll(SdsReferences.of(l)));
    StaticListenerSecrets s = new StaticListenerSecrets();
    s.wait = SecretWait.start(secrets, references, () -> s.ready.complete(null));
    if (s.wait == null) {
      s.ready.complete(null);
    }
    return s;
  }

  /** Completes once every secret is there or timed out. */
  public CompletableFuture<Void> ready() {
    return ready;
  }

  /** Lets the subscriptions go: call once the listeners exist (their TLS contexts hold their own). */
  @Override
  public void close() {
    SecretWait w = wait;
    wait = null;
    if (w != null) {
      w.close();
    }
  }
}
