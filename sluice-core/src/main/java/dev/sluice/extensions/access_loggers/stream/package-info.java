/** {@code envoy.access_loggers.stdout} and {@code envoy.access_loggers.stderr}. */
@NullMarked
package dev.sluice.extensions.access_loggers.stream;

import org.jspecify.annotations.NullMarked;
