"""Baseline for the start-up benchmark: a bare one-command typer app (nothing of geohazard-cli)."""

import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(deaths: int = 0) -> None:
    """Echo a number."""
    print(deaths)


if __name__ == "__main__":
    app()
