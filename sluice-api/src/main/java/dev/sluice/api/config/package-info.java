/** The configuration error type: a message naming the proto field path. */
@NullMarked
package dev.sluice.api.config;

import org.jspecify.annotations.NullMarked;
