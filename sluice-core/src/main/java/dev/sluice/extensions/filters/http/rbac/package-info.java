/** {@code envoy.filters.http.rbac}: Envoy's RBAC policies on each request, 403 on denial. */
@NullMarked
package dev.sluice.extensions.filters.http.rbac;

import org.jspecify.annotations.NullMarked;
