/** Access logs: Envoy format strings, JSON format, file and stdout sinks written off the event loop. */
@NullMarked
package dev.sluice.accesslog;

import org.jspecify.annotations.NullMarked;
