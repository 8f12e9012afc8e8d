package dev.sluice.mesh.server;

import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The ADS server's view of its streams, fed by java-control-plane's callbacks: which node each
 * stream belongs to (the node is only required on a stream's first request, as with
 * {@code set_node_on_first_message_only}), and per type what was sent with which nonce and what
 * the proxy ACKed or NACKed, which is what {@code istioctl proxy-status} shows.
 *
 * <p>The callbacks run on the stream's gRPC thread just before java-control-plane asks the
 * {@link MeshConfigWatcher} for a watch, so the stream the request came on is kept in a
 * thread-local for the watcher to read.
 */
final class AdsStreams implements DiscoveryServerCallbacks {
  /** Told when a node's first stream starts and its last stream ends. */
  interface Listener {
    /** @throws IllegalArgumentException when the node id is not one the mesh can serve */
    void connected(Node node);

    void disconnected(String nodeId);
  }

  private final Map<Long, StreamState> streams = new ConcurrentHashMap<>();
  private final ThreadLocal<@Nullable StreamState> current = new ThreadLocal<>();
  private final Listener listener;

  AdsStreams(Listener listener) {
    this.listener = listener;
  }

  /** The stream whose request is being handled on this thread, if any. */
  @Nullable StreamState current() {
    return current.get();
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) throws RequestException {
    StreamState s = stream(streamId, request.hasNode() ? request.getNode() : null, "SotW");
    TypeState t = s.type(request.getTypeUrl());
    if (!request.getResponseNonce().isEmpty()) {
      t.reply(request.getResponseNonce(), request.getVersionInfo(),
          request.hasErrorDetail() ? request.getErrorDetail().getMessage() : null);
    }
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) throws RequestException {
    StreamState s = stream(streamId, request.hasNode() ? request.getNode() : null, "Delta");
    TypeState t = s.type(request.getTypeUrl());
    if (!request.getResponseNonce().isEmpty()) {
      // Delta requests carry no version: an ACK accepts the version sent with that nonce.
      t.reply(request.getResponseNonce(), t.versionSentWith(request.getResponseNonce()),
          request.hasErrorDetail() ? request.getErrorDetail().getMessage() : null);
    }
  }

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
    StreamState s = streams.get(streamId);
    if (s != null) {
      s.type(response.getTypeUrl()).sent(response.getNonce(), response.getVersionInfo());
    }
  }

  @Override
  public void onV3StreamDeltaResponse(long streamId, DeltaDiscoveryRequest request, DeltaDiscoveryResponse response) {
    StreamState s = streams.get(streamId);
    if (s != null) {
      s.type(response.getTypeUrl()).sent(response.getNonce(), response.getSystemVersionInfo());
    }
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    closed(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    closed(streamId);
  }

  private StreamState stream(long streamId, @Nullable Node node, String protocol) throws RequestException {
    StreamState s = streams.get(streamId);
    if (s == null) {
      if (node == null || node.getId().isEmpty()) {
        throw new RequestException(io.grpc.Status.INVALID_ARGUMENT
            .withDescription("the first request on a stream must carry the node (with its id)"));
      }
      try {
        listener.connected(node);
      } catch (IllegalArgumentException e) {
        throw new RequestException(io.grpc.Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
      }
      s = new StreamState(streamId, node, protocol);
      streams.put(streamId, s);
    }
    current.set(s);
    return s;
  }

  private void closed(long streamId) {
    current.remove();
    StreamState s = streams.remove(streamId);
    if (s != null && streams.values().stream().noneMatch(o -> o.node.getId().equals(s.node.getId()))) {
      listener.disconnected(s.node.getId());
    }
  }

  /** The newest open stream of each connected node, by node id. */
  Map<String, StreamState> newestStreams() {
    return streams.values().stream().collect(Collectors.toMap(s -> s.node.getId(), s -> s,
        (a, b) -> a.streamId > b.streamId ? a : b));
  }

  /** One ADS stream: its node and, per type URL, the last response sent and the proxy's replies. */
  static final class StreamState {
    final long streamId;
    final Node node;
    /** {@code SotW} or {@code Delta}. */
    final String protocol;
    private final Map<String, TypeState> types = new ConcurrentHashMap<>();

    StreamState(long streamId, Node node, String protocol) {
      this.streamId = streamId;
      this.node = node;
      this.protocol = protocol;
    }

    TypeState type(String typeUrl) {
      return types.computeIfAbsent(typeUrl, u -> new TypeState());
    }

    Optional<TypeState> existing(String typeUrl) {
      return Optional.ofNullable(types.get(typeUrl));
    }

    List<String> typeUrls() {
      return types.keySet().stream().sorted(Comparator.naturalOrder()).toList();
    }
  }

  /** One type on one stream. Written by the stream's thread, read by status requests. */
  static final class TypeState {
    private @Nullable String sentNonce;
    private @Nullable String sentVersion;
    private @Nullable String ackedVersion;
    private @Nullable String repliedNonce;
    private @Nullable String nackMessage;
    private @Nullable String nackedVersion;

    synchronized void sent(String nonce, String version) {
      sentNonce = nonce;
      sentVersion = version;
    }

    synchronized @Nullable String versionSentWith(String nonce) {
      return nonce.equals(sentNonce) ? sentVersion : null;
    }

    /** A reply to a response: an ACK of {@code version} or, with a message, a NACK of what that nonce carried. */
    synchronized void reply(String nonce, @Nullable String version, @Nullable String nack) {
      if (!nonce.equals(sentNonce)) {
        return; // a reply to an older response, overtaken by the one sent since
      }
      repliedNonce = nonce;
      if (nack == null) {
        ackedVersion = version;
        nackMessage = null;
        nackedVersion = null;
      } else {
        nackMessage = nack;
        nackedVersion = sentVersion;
      }
    }

    synchronized TypeStatus status(String type) {
      String state;
      if (sentNonce == null) {
        state = TypeStatus.NOT_SENT;
      } else if (sentNonce.equals(repliedNonce) && nackMessage == null) {
        state = TypeStatus.SYNCED;
      } else {
        state = TypeStatus.STALE;
      }
      return new TypeStatus(type, sentVersion, ackedVersion, state, nackedVersion, nackMessage);
    }

    /** The version of the last response sent, which a NACK on this stream refers to. */
    synchronized @Nullable String sentVersion() {
      return sentVersion;
    }
  }
}
