package dev.sluice.bookinfo;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * productpage: the book's page composed from details and reviews, sign-in/out, the JSON API, the
 * landing page, {@code /metrics} and {@code /health}.
 *
 * <p>Its calls copy the {@link ForwardHeaders} of the incoming request, except {@code end-user},
 * which comes only from the session (as the original, which never forwards an incoming
 * {@code end-user}): while a user is signed in every call carries {@code end-user: <user>}. Every
 * call has the original's 3 s timeout, and the reviews call is attempted twice (the deliberate bug
 * the fault-injection task relies on: 2 × 3 s is less than ratings' injected 7 s delay).
 */
public final class ProductPageService implements ServiceHandler {
  /** The original's per-call timeout. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

  static final String DETAILS_UNAVAILABLE = "Sorry, product details are currently unavailable for this book.";
  static final String REVIEWS_UNAVAILABLE = "Sorry, product reviews are currently unavailable for this book.";
  static final String RATINGS_UNAVAILABLE = "Sorry, product ratings are currently unavailable for this book.";
  private static final int REVIEWS_ATTEMPTS = 2;

  /** An upstream's answer as the page uses it: the status and the JSON body (or an error object). */
  record Fetched(int status, JsonObject body) {}

  private final Upstreams upstreams;
  private final OutboundClient outbound;
  private final Duration timeout;
  private final SessionCookies sessions;
  private final RequestResultCounter results = new RequestResultCounter();

  public ProductPageService(Upstreams upstreams, OutboundClient outbound, Duration timeout, SessionCookies sessions) {
    this.upstreams = upstreams;
    this.outbound = outbound;
    this.timeout = timeout;
    this.sessions = sessions;
  }

  @Override
  public ServiceResponse handle(ServiceRequest request) throws InterruptedException {
    String path = request.path();
    if (path.equals("/login")) {
      return request.method().equals("POST") ? login(request) : notAllowed();
    }
    if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
      return notAllowed();
    }
    return switch (path) {
      case "/", "/index.html" -> ServiceResponse.html(200, ProductPageHtml.index(upstreams));
      case "/health" -> ServiceResponse.html(200, "Product page is healthy");
      case "/logout" -> ServiceResponse.redirect(backTo(request), sessions.signOut());
      case "/productpage" -> productPage(request);
      case "/metrics" -> ServiceResponse.of(200, "text/plain; version=0.0.4; charset=utf-8", results.prometheusText());
      case "/api/v1/products" -> ServiceResponse.json(200, Json.write(products()));
      default -> api(request);
    };
  }

  private ServiceResponse productPage(ServiceRequest request) throws InterruptedException {
    Map<String, String> headers = forwardHeaders(request);
    Fetched details = details("0", headers);
    Fetched reviews = reviews("0", headers);
    String user = sessions.user(request).orElse(null);
    return ServiceResponse.html(200, ProductPageHtml.page(user, products().get(0).getAsJsonObject(), details, reviews));
  }

  /** {@code /api/v1/products/<id>}, {@code .../reviews}, {@code .../ratings}. */
  private ServiceResponse api(ServiceRequest request) throws InterruptedException {
    List<String> segments = request.segments();
    boolean underProducts =
        segments.size() >= 4 && segments.get(0).equals("api") && segments.get(1).equals("v1") && segments.get(2).equals("products");
    if (!underProducts || segments.get(3).isEmpty() || segments.size() > 5) {
      return ServiceResponse.html(404, "Not Found");
    }
    String id = segments.get(3);
    Map<String, String> headers = forwardHeaders(request);
    Fetched fetched;
    if (segments.size() == 4) {
      fetched = details(id, headers);
    } else if (segments.get(4).equals("reviews")) {
      fetched = reviews(id, headers);
    } else if (segments.get(4).equals("ratings")) {
      fetched = ratings(id, headers);
    } else {
      return ServiceResponse.html(404, "Not Found");
    }
    return ServiceResponse.json(fetched.status(), Json.write(fetched.body()));
  }

  private ServiceResponse login(ServiceRequest request) {
    Optional<String> user = formValue(request, "username").filter(name -> !name.isEmpty());
    String cookie = user.map(sessions::signIn).orElseGet(sessions::signOut);
    return ServiceResponse.redirect(backTo(request), cookie);
  }

  private Fetched details(String id, Map<String, String> headers) throws InterruptedException {
    Fetched fetched = fetch(upstreams.details(), "/details/" + id, headers, DETAILS_UNAVAILABLE);
    results.increment("details", fetched.status());
    return fetched;
  }

  private Fetched reviews(String id, Map<String, String> headers) throws InterruptedException {
    Fetched fetched = fetch(upstreams.reviews(), "/reviews/" + id, headers, REVIEWS_UNAVAILABLE);
    for (int attempt = 1; attempt < REVIEWS_ATTEMPTS && fetched.status() != 200; attempt++) {
      fetched = fetch(upstreams.reviews(), "/reviews/" + id, headers, REVIEWS_UNAVAILABLE);
    }
    results.increment("reviews", fetched.status());
    return fetched;
  }

  private Fetched ratings(String id, Map<String, String> headers) throws InterruptedException {
    Fetched fetched = fetch(upstreams.ratings(), "/ratings/" + id, headers, RATINGS_UNAVAILABLE);
    results.increment("ratings", fetched.status());
    return fetched;
  }

  /**
   * One call. A 200 with a JSON object body is the answer; otherwise the upstream's status (500
   * when there was no answer or the body was not JSON) with the original's error object.
   */
  private Fetched fetch(URI base, String path, Map<String, String> headers, String unavailable)
      throws InterruptedException {
    Optional<OutboundClient.Reply> reply = outbound.get(base.resolve(path), headers, timeout);
    if (reply.isPresent() && reply.get().status() == 200) {
      Optional<JsonObject> body = Json.parseObject(reply.get().body());
      if (body.isPresent()) {
        return new Fetched(200, body.get());
      }
    }
    int status = reply.map(OutboundClient.Reply::status).filter(code -> code != 200).orElse(500);
    return new Fetched(status, Json.error(unavailable));
  }

  private Map<String, String> forwardHeaders(ServiceRequest request) {
    var headers = new LinkedHashMap<>(ForwardHeaders.from(request));
    headers.remove("end-user");
    sessions.user(request).ifPresent(user -> headers.put("end-user", user));
    return headers;
  }

  /** Back to the page the form or link was on, as the original; to the product page without one. */
  private static String backTo(ServiceRequest request) {
    String referer = request.header("referer");
    return referer == null || referer.isBlank() ? "/productpage" : referer;
  }

  /** A form field from a url-encoded body, else from the query string (Flask's request.values). */
  private static Optional<String> formValue(ServiceRequest request, String name) {
    String contentType = request.header("content-type");
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      Optional<String> fromBody = queryValue(request.bodyText(), name);
      if (fromBody.isPresent()) {
        return fromBody;
      }
    }
    return request.rawQuery() == null ? Optional.empty() : queryValue(request.rawQuery(), name);
  }

  private static Optional<String> queryValue(String encoded, String name) {
    for (String pair : encoded.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      try {
        if (URLDecoder.decode(key, StandardCharsets.UTF_8).equals(name)) {
          return Optional.of(eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static JsonArray products() {
    JsonObject product = new JsonObject();
    product.addProperty("id", 0);
    product.addProperty("title", "The Comedy of Errors");
    product.addProperty(
        "descriptionHtml",
        "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors is"
            + " one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies,"
            + " with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word"
            + " play.");
    JsonArray products = new JsonArray();
    products.add(product);
    return products;
  }

  private static ServiceResponse notAllowed() {
    return ServiceResponse.html(405, "Method Not Allowed");
  }
}
