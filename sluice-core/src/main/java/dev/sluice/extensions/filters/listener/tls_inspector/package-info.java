/** {@code envoy.filters.listener.tls_inspector}: SNI, ALPN and transport protocol from the ClientHello. */
@NullMarked
package dev.sluice.extensions.filters.listener.tls_inspector;

import org.jspecify.annotations.NullMarked;
