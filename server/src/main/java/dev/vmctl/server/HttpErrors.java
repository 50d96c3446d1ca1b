package dev.vmctl.server;

import io.javalin.config.JavalinConfig;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Every error answer in the API's shape {@code {"error": …, "detail": …}}, including those that Javalin
 * (unknown endpoint, wrong method, too large) and Jetty (bad Host header, URI or headers too long, bad request
 * line) write themselves, which would otherwise be plain text or HTML.
 */
final class HttpErrors {
    private HttpErrors() {}

    static void install(JavalinConfig cfg) {
        cfg.http.prefer405over404 = true;
        cfg.routes.exception(HttpResponseException.class, (e, ctx) -> {
            String detail = e.getDetails().get("detail");
            if (detail == null && !e.getDetails().isEmpty()) detail = e.getDetails().toString();
            String message = e.getMessage();
            if (e.getStatus() == 404 && message != null && message.startsWith("Endpoint ")) {
                message = "no such endpoint: " + ctx.method() + " " + ctx.path();
                detail = "see /api/v1/openapi.json";
            } else if (e.getStatus() == 405) {
                message = "method " + ctx.method() + " is not allowed on " + ctx.path();
                detail = "allowed: " + String.join(", ", e.getDetails().getOrDefault("availableMethods", "").split(",\\s*"))
                        + " (see /api/v1/openapi.json)";
            }
            Api.json(ctx, e.getStatus(), new Api.ErrorBody(message, detail));
        });
        cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
    }

    /** Jetty's own errors (before a request reaches Javalin) as JSON. */
    static final class JsonErrorHandler extends ErrorHandler {
        @Override
        protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
            String reason = message == null || message.isBlank() ? org.eclipse.jetty.http.HttpStatus.getMessage(code) : message;
            byte[] body = Api.toJson(new Api.ErrorBody("HTTP " + code + ": " + reason,
                    code == 400 ? "the request line or a header is malformed" : null)).getBytes(StandardCharsets.UTF_8);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            response.write(true, ByteBuffer.wrap(body), callback);
        }

        @Override
        public ByteBuffer badMessageError(int status, String reason, org.eclipse.jetty.http.HttpFields.Mutable fields) {
            fields.put(HttpHeader.CONTENT_TYPE, "application/json");
            return ByteBuffer.wrap(Api.toJson(new Api.ErrorBody("HTTP " + status + ": " + (reason == null ? "bad request" : reason),
                    "the request line or a header is malformed")).getBytes(StandardCharsets.UTF_8));
        }
    }
}
