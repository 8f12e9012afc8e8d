/** End-to-end HTTP/2 downstream edge cases and drain strategies against a full server. */
@NullMarked
package dev.sluice.it.http2;

import org.jspecify.annotations.NullMarked;
