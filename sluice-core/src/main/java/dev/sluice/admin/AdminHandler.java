package dev.sluice.admin;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Serves one admin path. Runs on the admin event loop; a handler whose answer takes time (a
 * drain, a dump built on the control thread) returns a future completed later, never blocks.
 */
@FunctionalInterface
public interface AdminHandler {
  CompletableFuture<AdminResponse> handle(AdminRequest request);

  /** A handler that answers at once. */
  static AdminHandler sync(Function<AdminRequest, AdminResponse> fn) {
    return request -> CompletableFuture.completedFuture(fn.apply(request));
  }
}
