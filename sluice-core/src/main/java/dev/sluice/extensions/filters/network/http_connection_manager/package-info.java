/** {@code envoy.filters.network.http_connection_manager}: the HTTP connection manager's factory. */
@NullMarked
package dev.sluice.extensions.filters.network.http_connection_manager;

import org.jspecify.annotations.NullMarked;
