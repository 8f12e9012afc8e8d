/** {@code envoy.filters.http.ext_authz}: each request checked by an external gRPC authorization service. */
@NullMarked
package dev.sluice.extensions.filters.http.ext_authz;

import org.jspecify.annotations.NullMarked;
