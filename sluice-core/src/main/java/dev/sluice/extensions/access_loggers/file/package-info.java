/** {@code envoy.access_loggers.file}: access log lines written to a file by a background writer. */
@NullMarked
package dev.sluice.extensions.access_loggers.file;

import org.jspecify.annotations.NullMarked;
