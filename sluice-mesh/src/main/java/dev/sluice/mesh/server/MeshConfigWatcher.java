package dev.sluice.mesh.server;

import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * java-control-plane's per-node {@link SimpleCache}, with two things fixed for real proxies:
 * <ul>
 *   <li>a request without a node (Envoy sends it only on a stream's first request with
 *       {@code set_node_on_first_message_only}, as Istio's bootstrap sets) is given its stream's
 *       node, so the cache finds the node's snapshot;
 *   <li>a state-of-the-world NACK is not answered by sending the same rejected version again (the
 *       cache compares the NACK's {@code version_info}, the last good version, with the snapshot
 *       and would re-send at once, forever): it waits, as istiod does, for the next change.
 * </ul>
 */
final class MeshConfigWatcher implements ConfigWatcher {
  private final SimpleCache<String> cache;
  private final AdsStreams streams;

  MeshConfigWatcher(SimpleCache<String> cache, AdsStreams streams) {
    this.cache = cache;
    this.streams = streams;
  }

  @Override
  public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
      Consumer<Response> responseConsumer, boolean hasClusterChanged, boolean allowDefaultEmptyEdsUpdate) {
    AdsStreams.StreamState stream = streams.current();
    DiscoveryRequest r = request.v3Request();
    Set<String> known = knownResourceNames;
    if (stream != null) {
      DiscoveryRequest.Builder b = null;
      if (!r.hasNode()) {
        b = r.toBuilder().setNode(stream.node);
      }
      String nacked = r.hasErrorDetail()
          ? stream.existing(r.getTypeUrl()).map(AdsStreams.TypeState::sentVersion).orElse(null) : null;
      if (nacked != null) {
        // Wait as if the rejected version were held; and the rejected names are not "new" names.
        b = (b == null ? r.toBuilder() : b).setVersionInfo(nacked);
        known = Set.copyOf(r.getResourceNamesList());
      }
      if (b != null) {
        request = XdsRequest.create(b.build());
      }
    }
    return cache.createWatch(ads, request, known, responseConsumer, hasClusterChanged, allowDefaultEmptyEdsUpdate);
  }

  @Override
  public DeltaWatch createDeltaWatch(DeltaXdsRequest request, String requesterVersion,
      Map<String, String> resourceVersions, Set<String> pendingResources, boolean isWildcard,
      Consumer<DeltaResponse> responseConsumer, boolean hasClusterChanged) {
    AdsStreams.StreamState stream = streams.current();
    if (stream != null && !request.v3Request().hasNode()) {
      request = DeltaXdsRequest.create(request.v3Request().toBuilder().setNode(stream.node).build());
    }
    // A delta NACK needs no fix: the stream's version is the one sent, so the cache waits for a change.
    return cache.createDeltaWatch(request, requesterVersion, resourceVersions, pendingResources,
        isWildcard, responseConsumer, hasClusterChanged);
  }
}
