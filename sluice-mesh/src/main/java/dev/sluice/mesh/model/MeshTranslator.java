package dev.sluice.mesh.model;

import java.util.List;

/**
 * Turns the mesh state into xDS for one proxy, shaped as istiod shapes it (names, listeners,
 * route configs, clusters, filters). Pure and thread-safe: the server calls it for every proxy on
 * every change.
 */
public interface MeshTranslator {
  /** Every problem that would stop this state from being pushed ({@link ValidationMessage.Level#ERROR}) or is worth a warning. */
  List<ValidationMessage> validate(MeshState state);

  /** The proxy's configuration; call only for a state whose validation had no error. */
  XdsResources translate(MeshState state, ProxyNode proxy);
}
