/** Configuration parsing shared by all subsystems: proto loading, validation errors, conversions. */
@NullMarked
package dev.sluice.config;

import org.jspecify.annotations.NullMarked;
