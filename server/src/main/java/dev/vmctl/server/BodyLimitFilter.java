package dev.vmctl.server;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Holds every request body to its route's limit ({@link RouteRules}), before any of it is read into memory: a
 * declared Content-Length over the limit is answered 413 at once, and a body without one (chunked) is read
 * through a stream that fails with the same 413 when it passes the limit. The answer is the API's error shape
 * and names the limit.
 */
final class BodyLimitFilter implements Filter {
    private final RouteRules rules;

    BodyLimitFilter(RouteRules rules) {
        this.rules = rules;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        if (!(request instanceof HttpServletRequest req) || !(response instanceof HttpServletResponse res)) {
            chain.doFilter(request, response);
            return;
        }
        RouteRules.Rule rule = rules.match(req.getMethod(), req.getRequestURI());
        if (rule == null) {
            chain.doFilter(request, response);
            return;
        }
        long declared = req.getContentLengthLong();
        if (declared > rule.maxBytes()) {
            var e = RouteRules.tooLarge(rule, declared);
            byte[] body = Api.toJson(new Api.ErrorBody(e.getMessage(), e.getDetails().get("detail"))).getBytes(StandardCharsets.UTF_8);
            res.setStatus(e.getStatus());
            res.setHeader("Connection", "close");
            res.setContentType("application/json");
            res.setContentLength(body.length);
            res.getOutputStream().write(body);
            return;
        }
        chain.doFilter(new Limited(req, rule), response);
    }

    /** The request with its body stream capped. */
    private static final class Limited extends HttpServletRequestWrapper {
        private final RouteRules.Rule rule;
        private ServletInputStream in;

        Limited(HttpServletRequest req, RouteRules.Rule rule) {
            super(req);
            this.rule = rule;
        }

        @Override
        public synchronized ServletInputStream getInputStream() throws IOException {
            if (in == null) in = new CappedServletStream(super.getInputStream(), rule);
            return in;
        }

        @Override
        public BufferedReader getReader() throws IOException {
            String enc = getCharacterEncoding();
            return new BufferedReader(new InputStreamReader(getInputStream(), enc == null ? "UTF-8" : enc));
        }
    }

    private static final class CappedServletStream extends ServletInputStream {
        private final ServletInputStream raw;
        private final RouteRules.Capped capped;

        CappedServletStream(ServletInputStream raw, RouteRules.Rule rule) {
            this.raw = raw;
            this.capped = new RouteRules.Capped(raw, rule);
        }

        @Override
        public int read() throws IOException { return capped.read(); }

        @Override
        public int read(byte[] b, int off, int len) throws IOException { return capped.read(b, off, len); }

        @Override
        public int available() throws IOException { return capped.available(); }

        @Override
        public boolean isFinished() { return raw.isFinished(); }

        @Override
        public boolean isReady() { return raw.isReady(); }

        @Override
        public void setReadListener(ReadListener l) { raw.setReadListener(l); }

        @Override
        public void close() throws IOException { raw.close(); }
    }
}
