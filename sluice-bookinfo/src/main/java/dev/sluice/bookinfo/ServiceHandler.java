package dev.sluice.bookinfo;

/** One Bookinfo service's request handling, independent of the HTTP server that carries it. */
@FunctionalInterface
public interface ServiceHandler {
  ServiceResponse handle(ServiceRequest request) throws Exception;
}
