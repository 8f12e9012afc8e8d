/** {@code envoy.filters.network.rbac}: Envoy's RBAC policies on a connection, closed on denial. */
@NullMarked
package dev.sluice.extensions.filters.network.rbac;

import org.jspecify.annotations.NullMarked;
