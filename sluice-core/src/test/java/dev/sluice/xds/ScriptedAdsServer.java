package dev.sluice.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A scripted ADS server on a loopback port, for resource types java-control-plane's cache does not
 * serve (ScopedRouteConfiguration, VirtualHost): the test sets each type's resources with {@link #set}; the
 * server answers each (SotW or delta) subscription with what it holds and pushes every later
 * change to the subscribed stream (SotW: the full set of the type, or the names asked for; delta:
 * what changed and what was removed); {@link #pushDelta} sends a scripted delta response as is.
 * Requests are recorded for assertions (ACKs, NACKs, subscriptions).
 * One stream of each protocol at a time, as a single proxy opens.
 */
final class ScriptedAdsServer implements AutoCloseable {
  private final Map<String, String> versions = new HashMap<>();
  private final Map<String, Map<String, Any>> resources = new HashMap<>();
  private final List<DiscoveryRequest> sotwRequests = new CopyOnWriteArrayList<>();
  private final List<DeltaDiscoveryRequest> deltaRequests = new CopyOnWriteArrayList<>();
  private final io.grpc.Server server;
  private long nonce;
  private StreamObserver<DiscoveryResponse> sotw;
  /** SotW: the names each type is subscribed to (empty: all). */
  private final Map<String, Set<String>> sotwNames = new HashMap<>();
  private StreamObserver<DeltaDiscoveryResponse> delta;
  /** Delta: per type, the names subscribed ("*" for wildcard) and what was last sent. */
  private final Map<String, Set<String>> deltaNames = new HashMap<>();
  private final Map<String, Map<String, Any>> deltaSent = new HashMap<>();

  private ScriptedAdsServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
          @Override
          public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> out) {
            synchronized (ScriptedAdsServer.this) {
              sotw = out;
              sotwNames.clear();
            }
            return observer(ScriptedAdsServer.this::onSotw);
          }

          @Override
          public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(StreamObserver<DeltaDiscoveryResponse> out) {
            synchronized (ScriptedAdsServer.this) {
              delta = out;
              deltaNames.clear();
              deltaSent.clear();
            }
            return observer(ScriptedAdsServer.this::onDelta);
          }
        }).build().start();
  }

  static ScriptedAdsServer start() throws IOException {
    return new ScriptedAdsServer();
  }

  int port() {
    return server.getPort();
  }

  List<DiscoveryRequest> sotwRequests() {
    return sotwRequests;
  }

  List<DeltaDiscoveryRequest> deltaRequests() {
    return deltaRequests;
  }

  /** Every error_detail message the client sent (NACKs), either protocol. */
  List<String> nacks() {
    List<String> out = new java.util.ArrayList<>();
    sotwRequests.stream().filter(DiscoveryRequest::hasErrorDetail).forEach(r -> out.add(r.getErrorDetail().getMessage()));
    deltaRequests.stream().filter(DeltaDiscoveryRequest::hasErrorDetail).forEach(r -> out.add(r.getErrorDetail().getMessage()));
    return out;
  }

  /** Replaces every resource of {@code type} with {@code version} and pushes the change to a subscribed stream. */
  synchronized void set(XdsResourceType type, String version, Message... all) {
    Map<String, Any> byName = new LinkedHashMap<>();
    for (Message m : all) {
      byName.put(type.nameOf(m), Any.pack(m));
    }
    versions.put(type.typeUrl(), version);
    resources.put(type.typeUrl(), byName);
    if (sotw != null && sotwNames.containsKey(type.typeUrl())) {
      sendSotw(type.typeUrl());
    }
    if (delta != null && deltaNames.containsKey(type.typeUrl())) {
      sendDelta(type.typeUrl());
    }
  }

  private synchronized void onSotw(DiscoveryRequest r) {
    sotwRequests.add(r);
    Set<String> names = new HashSet<>(r.getResourceNamesList());
    Set<String> before = sotwNames.put(r.getTypeUrl(), names);
    if ((before == null || !before.equals(names)) && resources.containsKey(r.getTypeUrl())) {
      sendSotw(r.getTypeUrl());
    }
  }

  private void sendSotw(String typeUrl) {
    Set<String> names = sotwNames.get(typeUrl);
    DiscoveryResponse.Builder out = DiscoveryResponse.newBuilder().setTypeUrl(typeUrl)
        .setVersionInfo(versions.get(typeUrl)).setNonce(Long.toString(++nonce));
    resources.get(typeUrl).forEach((name, any) -> {
      if (names.isEmpty() || names.contains(name)) {
        out.addResources(any);
      }
    });
    sotw.onNext(out.build());
  }

  private synchronized void onDelta(DeltaDiscoveryRequest r) {
    deltaRequests.add(r);
    Set<String> names = deltaNames.computeIfAbsent(r.getTypeUrl(), t -> new HashSet<>());
    boolean initial = r.getResponseNonce().isEmpty();
    if (initial && r.getResourceNamesSubscribeCount() == 0) {
      names.add("*");
    }
    names.addAll(r.getResourceNamesSubscribeList());
    names.removeAll(r.getResourceNamesUnsubscribeList());
    Map<String, Any> sent = deltaSent.computeIfAbsent(r.getTypeUrl(), t -> new HashMap<>());
    sent.keySet().removeAll(r.getResourceNamesUnsubscribeList());
    if ((initial || r.getResourceNamesSubscribeCount() > 0) && resources.containsKey(r.getTypeUrl())) {
      sendDelta(r.getTypeUrl());
    }
  }

  /**
   * Delta: pushes one scripted response of {@code type} as is (VHDS answers: a resource with
   * {@code aliases}, one without a body, removals); what it adds or removes becomes the server's
   * state, as sent, so later responses send only what changes from it.
   */
  synchronized void pushDelta(XdsResourceType type, String version, List<Resource> pushed, List<String> removed) {
    Map<String, Any> sent = deltaSent.computeIfAbsent(type.typeUrl(), t -> new HashMap<>());
    Map<String, Any> held = resources.computeIfAbsent(type.typeUrl(), t -> new LinkedHashMap<>());
    versions.put(type.typeUrl(), version);
    DeltaDiscoveryResponse.Builder out = DeltaDiscoveryResponse.newBuilder().setTypeUrl(type.typeUrl())
        .setSystemVersionInfo(version).setNonce(Long.toString(++nonce)).addAllRemovedResources(removed);
    for (Resource r : pushed) {
      out.addResources(r);
      if (r.hasResource()) {
        sent.put(r.getName(), r.getResource());
        held.put(r.getName(), r.getResource());
      }
    }
    removed.forEach(sent::remove);
    removed.forEach(held::remove);
    delta.onNext(out.build());
  }

  /** Delta: how many requests subscribed to {@code name} of {@code type}. */
  long deltaSubscriptions(XdsResourceType type, String name) {
    return deltaRequests.stream().filter(r -> r.getTypeUrl().equals(type.typeUrl()))
        .filter(r -> r.getResourceNamesSubscribeList().contains(name)).count();
  }

  /** Delta: how many requests unsubscribed from {@code name} of {@code type}. */
  long deltaUnsubscriptions(XdsResourceType type, String name) {
    return deltaRequests.stream().filter(r -> r.getTypeUrl().equals(type.typeUrl()))
        .filter(r -> r.getResourceNamesUnsubscribeList().contains(name)).count();
  }

  private void sendDelta(String typeUrl) {
    Set<String> names = deltaNames.get(typeUrl);
    Map<String, Any> sent = deltaSent.computeIfAbsent(typeUrl, t -> new HashMap<>());
    Map<String, Any> now = resources.get(typeUrl);
    String version = versions.get(typeUrl);
    DeltaDiscoveryResponse.Builder out = DeltaDiscoveryResponse.newBuilder().setTypeUrl(typeUrl)
        .setSystemVersionInfo(version).setNonce(Long.toString(++nonce));
    now.forEach((name, any) -> {
      if ((names.contains("*") || names.contains(name)) && !any.equals(sent.get(name))) {
        out.addResources(Resource.newBuilder().setName(name).setVersion(version).setResource(any));
        sent.put(name, any);
      }
    });
    for (String name : List.copyOf(sent.keySet())) {
      if (!now.containsKey(name)) {
        out.addRemovedResources(name);
        sent.remove(name);
      }
    }
    if (out.getResourcesCount() > 0 || out.getRemovedResourcesCount() > 0) {
      delta.onNext(out.build());
    }
  }

  private static <T> StreamObserver<T> observer(java.util.function.Consumer<T> onRequest) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        onRequest.accept(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
