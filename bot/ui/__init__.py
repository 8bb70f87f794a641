"""How replies look, for every transport: HTML, movie cards, button data, the Outcome a handler
returns, paging, names, genres and the languages (i18n)."""
