package dev.sluice.bookinfo;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.jspecify.annotations.Nullable;

/**
 * productpage's HTML: the book page ("Simple Bookstore App") and the landing page. Self-contained
 * (inline style, no static assets). The markers {@link BookinfoPage} reads are stable: stars are
 * {@code <svg class="star star-full text-<color>-500">} (filled) and {@code star star-empty}
 * (outline) inside {@code <div class="stars flex gap-x-1 text-<color>-500">}; a rating error is
 * {@code <p class="rating-error text-red-500">}; the page-level errors carry the original texts
 * "Error fetching product details" and "Error fetching product reviews".
 */
final class ProductPageHtml {
  static final String DETAILS_ERROR = "Error fetching product details";
  static final String REVIEWS_ERROR = "Error fetching product reviews";

  private static final String STAR_POINTS = "10,1.5 12.6,7.1 18.6,7.6 14,11.6 15.4,17.6 10,14.4 4.6,17.6 6,11.6 1.4,7.6 7.4,7.1";

  private static final String STYLE =
      """
      body{margin:0;font-family:system-ui,sans-serif;color:#111827}
      nav{background:#1f2937;display:flex;justify-content:space-between;align-items:center;padding:.75rem 2rem}
      nav a,nav p{color:#f9fafb;text-decoration:none;margin:0}
      .container{max-width:64rem;margin:2rem auto;padding:0 2rem}
      h1{font-size:3rem;color:#1e3a8a}
      table{border-collapse:collapse}th,td{text-align:left;padding:.4rem 1rem .4rem 0;border-bottom:1px solid #e5e7eb}
      .reviews{display:flex;flex-wrap:wrap;gap:2rem}.review{max-width:28rem}
      .stars svg{width:1.25rem;height:1.25rem}
      .text-black-500{color:#000}.text-red-500{color:#ef4444}.text-gray-600{color:#4b5563}
      blockquote{margin:1rem 0;font-size:1.25rem;font-weight:600}
      .served-by{font-family:monospace;color:#4b5563}
      """;

  private ProductPageHtml() {}

  static String page(
      @Nullable String user, JsonObject product, ProductPageService.Fetched details, ProductPageService.Fetched reviews) {
    var html = new StringBuilder(8192);
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n")
        .append("<title>Simple Bookstore App</title>\n<style>\n")
        .append(STYLE)
        .append("</style>\n</head>\n<body>\n");
    navigation(html, user);
    html.append("<div class=\"container\">\n<h1 class=\"text-5xl font-bold\">")
        .append(escape(text(product, "title")))
        .append("</h1>\n<p class=\"description text-gray-600\">")
        // The description is HTML by contract (descriptionHtml) and is the service's own constant.
        .append(text(product, "descriptionHtml"))
        .append("</p>\n</div>\n");
    details(html, details);
    reviews(html, reviews);
    html.append("</body>\n</html>\n");
    return html.toString();
  }

  private static void navigation(StringBuilder html, @Nullable String user) {
    html.append("<nav>\n<a href=\"#\" class=\"brand\">BookInfo Sample</a>\n");
    if (user != null) {
      html.append("<div><p class=\"user\">")
          .append(escape(user))
          .append("</p><a href=\"logout\" class=\"sign-out\">Sign out</a></div>\n");
    } else {
      html.append("<button type=\"button\" id=\"sign-in-button\" onclick=\"document.getElementById('dialog').showModal()\">")
          .append("Sign in</button>\n");
    }
    html.append("</nav>\n")
        .append("<dialog id=\"dialog\">\n<h2>Sign in to BookInfo</h2>\n")
        .append("<form method=\"post\" action=\"login\" name=\"login_form\">\n")
        .append("<p><label for=\"username\">Username</label> <input id=\"username\" name=\"username\" required></p>\n")
        .append("<p><label for=\"password\">Password</label> <input id=\"password\" name=\"passwd\" type=\"password\" required></p>\n")
        .append("<p><button type=\"submit\">Sign in</button> ")
        .append("<button type=\"button\" onclick=\"document.getElementById('dialog').close()\">Cancel</button></p>\n")
        .append("</form>\n</dialog>\n");
  }

  private static void details(StringBuilder html, ProductPageService.Fetched details) {
    html.append("<div class=\"container\" id=\"details\">\n");
    if (details.status() == 200) {
      JsonObject book = details.body();
      html.append("<h4 class=\"text-3xl font-semibold\">Book Details</h4>\n<table id=\"book-details\">\n")
          .append("<thead><tr><th>ISBN-10</th><th>Publisher</th><th>Pages</th><th>Type</th><th>Language</th></tr></thead>\n")
          .append("<tbody><tr>");
      for (String field : new String[] {"ISBN-10", "publisher", "pages", "type", "language"}) {
        html.append("<td>").append(escape(text(book, field))).append("</td>");
      }
      html.append("</tr></tbody>\n</table>\n");
    } else {
      html.append("<p class=\"text-2xl text-red-500\" id=\"details-error\">").append(DETAILS_ERROR).append("</p>\n")
          .append("<p class=\"text-lg text-gray-600\">").append(escape(text(details.body(), "error"))).append("</p>\n");
    }
    html.append("</div>\n");
  }

  private static void reviews(StringBuilder html, ProductPageService.Fetched reviews) {
    html.append("<div class=\"container\" id=\"reviews\">\n");
    if (reviews.status() != 200) {
      html.append("<p class=\"text-2xl text-red-500\" id=\"reviews-error\">").append(REVIEWS_ERROR).append("</p>\n")
          .append("<p class=\"text-lg text-gray-600\">").append(escape(text(reviews.body(), "error"))).append("</p>\n")
          .append("</div>\n");
      return;
    }
    JsonObject body = reviews.body();
    String servedBy = text(body, "podname");
    String cluster = text(body, "clustername");
    html.append("<h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n<div class=\"reviews\">\n");
    JsonElement list = body.get("reviews");
    if (list != null && list.isJsonArray()) {
      for (JsonElement element : list.getAsJsonArray()) {
        if (element.isJsonObject()) {
          review(html, element.getAsJsonObject(), servedBy, cluster);
        }
      }
    }
    html.append("</div>\n</div>\n");
  }

  private static void review(StringBuilder html, JsonObject review, String servedBy, String cluster) {
    html.append("<section class=\"review\">\n");
    JsonElement rating = review.get("rating");
    if (rating != null && rating.isJsonObject()) {
      JsonObject value = rating.getAsJsonObject();
      int stars = number(value, "stars");
      if (stars > 0) {
        String color = escape(text(value, "color"));
        html.append("<div class=\"stars flex gap-x-1 text-").append(color).append("-500\">\n");
        for (int i = 0; i < stars; i++) {
          star(html, "star-full", color, "fill=\"currentColor\"");
        }
        for (int i = stars; i < 5; i++) {
          star(html, "star-empty", color, "fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.2\"");
        }
        html.append("</div>\n");
      } else if (!text(value, "error").isEmpty()) {
        html.append("<p class=\"rating-error text-red-500\">").append(escape(text(value, "error"))).append("</p>\n");
      }
    }
    html.append("<blockquote><p>\"").append(escape(text(review, "text"))).append("\"</p></blockquote>\n")
        .append("<div class=\"reviewer font-semibold\">").append(escape(text(review, "reviewer"))).append("</div>\n")
        .append("<div class=\"served-by\">Reviews served by: ").append(escape(servedBy));
    if (!cluster.equals("null") && !cluster.isEmpty()) {
      html.append(" on cluster ").append(escape(cluster));
    }
    html.append("</div>\n</section>\n");
  }

  private static void star(StringBuilder html, String kind, String color, String paint) {
    html.append("<svg class=\"star ").append(kind).append(" text-").append(color)
        .append("-500\" viewBox=\"0 0 20 20\" aria-hidden=\"true\"><polygon points=\"")
        .append(STAR_POINTS).append("\" ").append(paint).append("/></svg>\n");
  }

  /** The landing page: the service tree productpage calls, and links to the product page. */
  static String index(Upstreams upstreams) {
    return """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Simple Bookstore App</title>
        <style>table{border-collapse:collapse}th,td{border:1px solid #d3d3d3;padding:.5em}th{background:#466BB0;color:#fff}</style>
        </head>
        <body>
        <h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
        <table>
        <tr><th>service</th><th>name</th><th>endpoint</th><th>children</th></tr>
        <tr><td>productpage</td><td>%1$s</td><td>details</td><td>details, reviews</td></tr>
        <tr><td>details</td><td>%1$s</td><td>details</td><td></td></tr>
        <tr><td>reviews</td><td>%2$s</td><td>reviews</td><td>ratings</td></tr>
        <tr><td>ratings</td><td>%3$s</td><td>ratings</td><td></td></tr>
        </table>
        <p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
        <ul>
        <li><a href="/productpage?u=normal">Normal user</a></li>
        <li><a href="/productpage?u=test">Test user</a></li>
        </ul>
        </body>
        </html>
        """
        .formatted(
            escape(upstreams.details().toString()),
            escape(upstreams.reviews().toString()),
            escape(upstreams.ratings().toString()));
  }

  /** A field as text (numbers as written), empty when absent or not a primitive. */
  private static String text(JsonObject object, String name) {
    JsonElement value = object.get(name);
    return value != null && value.isJsonPrimitive() ? value.getAsString() : "";
  }

  private static int number(JsonObject object, String name) {
    JsonElement value = object.get(name);
    return value != null && value.isJsonPrimitive() && value.getAsJsonPrimitive().isNumber() ? value.getAsInt() : 0;
  }

  static String escape(String text) {
    var escaped = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> escaped.append("&lt;");
        case '>' -> escaped.append("&gt;");
        case '&' -> escaped.append("&amp;");
        case '"' -> escaped.append("&quot;");
        case '\'' -> escaped.append("&#39;");
        default -> escaped.append(c);
      }
    }
    return escaped.toString();
  }
}
