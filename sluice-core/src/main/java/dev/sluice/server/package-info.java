/** Server lifecycle and the Envoy-compatible command line. */
@NullMarked
package dev.sluice.server;

import org.jspecify.annotations.NullMarked;
