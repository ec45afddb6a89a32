/** Relay mutation: placeOrder with its typed errors. Compiled by test/clients.test.ts. */
declare function graphql(strings: TemplateStringsArray): unknown;

export const placeOrderMutation = graphql`
  mutation PlaceOrderMutation($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      __typename
      ... on MutationPlaceOrderSuccess {
        data {
          order {
            id
            placedAt
            currency
            lines {
              sku
              quantity
            }
            total {
              amount
              currency
            }
          }
        }
      }
      ... on ValidationError {
        issues {
          path
          message
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`;
