package dev.sluice.xds;

import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies the resources of one type as they arrive (control thread). Whatever it cannot use it
 * returns as errors; the client then NACKs the response naming each of them, while the handler has
 * applied the valid ones and kept the last good version of the rejected ones (Envoy's behaviour for
 * state-of-the-world CDS and LDS, and for delta updates).
 */
@FunctionalInterface
public interface ResourceHandler {
  /** @return one error per rejected resource; empty when everything applied */
  List<ResourceError> apply(Update update);

  /**
   * One response's worth of change.
   *
   * @param version the response's {@code version_info} (delta: {@code system_version_info})
   * @param resources decoded resources by name (valid protos; semantic checks are the handler's)
   * @param removed names the control plane no longer sends (delta {@code removed_resources}, or for
   *     Listener and Cluster the names a state-of-the-world response left out; VHDS: also a
   *     {@code Resource} without a body, the server's answer that it has no such virtual host)
   * @param aliases delta (VHDS): the {@code Resource.aliases} of each resource that had some, by
   *     resource name (the other names the request may have asked for it by)
   */
  record Update(String version, Map<String, Message> resources, Set<String> removed, Map<String, List<String>> aliases) {
    public Update(String version, Map<String, Message> resources, Set<String> removed) {
      this(version, resources, removed, Map.of());
    }
  }

  /** A rejected resource and why, as it appears in the NACK's {@code error_detail}. */
  record ResourceError(String name, String message) {
    @Override
    public String toString() {
      return name + ": " + message;
    }
  }
}
