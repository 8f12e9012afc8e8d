package dev.sluice.extensions.filters.http.connect_authority;

import dev.sluice.extensions.filters.passthrough.OpaqueHttpFilterFactory;

/**
 * Istio's {@code connect_authority} ({@code io.istio.http.connect_authority.Config}, per route
 * {@code enabled} and {@code port}): on a CONNECT request it shares the {@code :authority} with the
 * upstream internal connection as filter state, where {@code istio.set_internal_dst_address}
 * restores it as the destination. Accepted and passed through: Sluice has no filter state and does
 * not terminate HBONE CONNECT tunnels; {@code set_internal_dst_address} reads the endpoint's
 * {@code tunnel} metadata instead.
 */
public final class ConnectAuthorityFactory extends OpaqueHttpFilterFactory {
  public ConnectAuthorityFactory() {
    super("connect_authority", "type.googleapis.com/io.istio.http.connect_authority.Config",
        "authority hand-off to internal listeners", "Istio ambient (HBONE)");
  }
}
