/** Keeps a failing panel from blanking the page: the panel shows the error, the rest stays usable. */
import { Component, type ReactNode } from 'react';

export class ErrorBoundary extends Component<
  { name: string; resetKey: unknown; children: ReactNode },
  { error: Error | null }
> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidUpdate(prev: { resetKey: unknown }) {
    // A new step or scenario gets a fresh try.
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override render() {
    if (this.state.error) {
      return (
        <div className="panel-error" role="alert">
          The {this.props.name} failed to draw this state: {this.state.error.message}
        </div>
      );
    }
    return this.props.children;
  }
}
