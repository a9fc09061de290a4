/** @jsxImportSource hono/jsx */
// Asking for an API key, and saying what went wrong.
import type { FC } from "hono/jsx";
import { Csrf, type Frame, Layout } from "../layout.tsx";

export const LoginPage: FC<{ frame: Frame; next: string; problem: string | null }> = ({ frame, next, problem }) => (
  <Layout frame={frame} title="Log in" here="login">
    <div class="card login">
      <h1>Log in</h1>
      {problem ? (
        <p class="flash error" role="alert">
          {problem}
        </p>
      ) : null}
      <form class="stack" method="post" action="/ui/login">
        <Csrf token={frame.csrf} />
        <input type="hidden" name="next" value={next} />
        <label>
          API key
          <input type="password" name="key" autocomplete="current-password" placeholder="tock_…" required autofocus />
        </label>
        <button type="submit">Log in</button>
      </form>
      <p class="muted">
        The key is checked as the API checks it, and kept in a cookie for this dashboard only. Make one with <code>tock keys create --role reader --all-namespaces</code>.
      </p>
    </div>
  </Layout>
);

/** A refusal or an error, in words, with the way back. */
export const ProblemPage: FC<{ frame: Frame; title: string; message: string; back?: string }> = ({ frame, title, message, back }) => (
  <Layout frame={frame} title={title} here="jobs">
    <h1>{title}</h1>
    <p class="flash error" role="alert">
      {message}
    </p>
    <p>
      <a href={back ?? "/ui"}>← Back</a>
    </p>
  </Layout>
);
