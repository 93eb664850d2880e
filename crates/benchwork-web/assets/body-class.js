// Marks the page as able to run the NHS.UK frontend components. Kept in a
// file, not inline, so that the Content-Security-Policy can forbid inline
// scripts.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
