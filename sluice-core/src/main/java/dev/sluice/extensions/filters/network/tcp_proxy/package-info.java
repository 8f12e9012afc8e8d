/** {@code envoy.filters.network.tcp_proxy}: relays a downstream connection's bytes to an upstream host. */
@NullMarked
package dev.sluice.extensions.filters.network.tcp_proxy;

import org.jspecify.annotations.NullMarked;
