/** TLS transport sockets (Envoy's {@code envoy.transport_sockets.tls}) on Netty and BoringSSL. */
@NullMarked
package dev.sluice.tls;

import org.jspecify.annotations.NullMarked;
