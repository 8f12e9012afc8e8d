package dev.sluice.tls;

import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** A secret provider a test updates, as an SDS client would: {@link #put} notifies the watchers of the name. */
final class TestSecretProvider implements SecretProvider {
  private final Map<String, Secret> secrets = new ConcurrentHashMap<>();
  private final Map<String, List<Runnable>> watchers = new ConcurrentHashMap<>();
  final List<String> subscribed = new CopyOnWriteArrayList<>();

  void put(Secret secret) {
    secrets.put(secret.getName(), secret);
    watchers.getOrDefault(secret.getName(), List.of()).forEach(Runnable::run);
  }

  @Override
  public Secret secret(String name) {
    return secrets.get(name);
  }

  @Override
  public Subscription subscribe(SdsSecretConfig reference, Runnable onChange) {
    subscribed.add(reference.getName());
    List<Runnable> list = watchers.computeIfAbsent(reference.getName(), n -> new CopyOnWriteArrayList<>());
    list.add(onChange);
    return () -> list.remove(onChange);
  }
}
