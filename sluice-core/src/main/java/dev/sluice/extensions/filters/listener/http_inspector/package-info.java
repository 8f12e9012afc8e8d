/** {@code envoy.filters.listener.http_inspector}: detects HTTP/1.x and HTTP/2 prior knowledge on plaintext connections. */
@NullMarked
package dev.sluice.extensions.filters.listener.http_inspector;

import org.jspecify.annotations.NullMarked;
