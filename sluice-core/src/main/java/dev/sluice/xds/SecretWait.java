package dev.sluice.xds;

import dev.sluice.tls.SecretProvider;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A listener or cluster warming on its SDS secrets, as Envoy's init target per secret: it holds
 * subscriptions to every secret named (so they are fetched before any TLS context exists) and
 * reports once each has arrived or passed its {@code initial_fetch_timeout}
 * ({@link SdsSecretProvider#ready}). Control thread.
 */
final class SecretWait implements AutoCloseable {
  private final SdsSecretProvider secrets;
  private final List<SdsSecretConfig> references;
  private final List<SecretProvider.Subscription> subscriptions = new ArrayList<>();
  private final Runnable onReady;
  private boolean done;

  private SecretWait(SdsSecretProvider secrets, List<SdsSecretConfig> references, Runnable onReady) {
    this.secrets = secrets;
    this.references = references;
    this.onReady = onReady;
  }

  /**
   * Starts waiting for {@code references}; null when there is nothing to wait for.
   *
   * @param onReady runs once (control thread) when every secret is ready
   */
  static @Nullable SecretWait start(@Nullable SdsSecretProvider secrets, List<SdsSecretConfig> references, Runnable onReady) {
    if (secrets == null || references.stream().allMatch(r -> secrets.ready(r.getName()))) {
      return null;
    }
    SecretWait wait = new SecretWait(secrets, List.copyOf(references), onReady);
    for (SdsSecretConfig ref : references) {
      wait.subscriptions.add(secrets.subscribe(ref, wait::check));
    }
    return wait;
  }

  boolean ready() {
    return references.stream().allMatch(r -> secrets.ready(r.getName()));
  }

  /** The names still waited for (for logs). */
  List<String> missing() {
    return references.stream().map(SdsSecretConfig::getName).filter(n -> !secrets.ready(n)).distinct().toList();
  }

  private void check() {
    if (!done && ready()) {
      done = true;
      onReady.run();
    }
  }

  /** Drops the subscriptions; call once what waited has its own TLS contexts (or is gone). */
  @Override
  public void close() {
    done = true;
    subscriptions.forEach(SecretProvider.Subscription::close);
    subscriptions.clear();
  }
}
