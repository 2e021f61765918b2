export {
  CONTROL_BODY_LIMIT,
  OPENAPI_BODY_LIMIT,
  ResponseTooLargeError,
  readBodyText,
  UnexpectedRedirectError,
} from './read-body.js';
