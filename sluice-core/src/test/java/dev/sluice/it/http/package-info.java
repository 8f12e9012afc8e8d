/** End-to-end tests of the HTTP path against Envoy's answers: malformed requests, limits, timeouts, WebSocket. */
@NullMarked
package dev.sluice.it.http;

import org.jspecify.annotations.NullMarked;
