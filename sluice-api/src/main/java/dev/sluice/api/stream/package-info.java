/** Per-stream facts shared by the HTTP and TCP paths, access logs and stats. */
@NullMarked
package dev.sluice.api.stream;

import org.jspecify.annotations.NullMarked;
