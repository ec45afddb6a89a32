/**
 * Relay operations of an account page: the account, and its children as a paginated, refetchable
 * connection. Compiled by test/clients.test.ts with relay-compiler against schema.graphql.
 */
declare function graphql(strings: TemplateStringsArray): unknown;

export const accountPageQuery = graphql`
  query AccountPageQuery($id: ID!) {
    account(id: $id) {
      __typename
      ... on QueryAccountSuccess {
        data {
          id
          name
          kind
          country
          currency
          childCount
          ...AccountPage_children
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`;

export const accountChildren = graphql`
  fragment AccountPage_children on Account
  @refetchable(queryName: "AccountPageChildrenPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 20 }, after: { type: "String" }, search: { type: "String" }) {
    children(first: $first, after: $after, search: $search) @connection(key: "AccountPage_children") {
      edges {
        node {
          id
          name
          kind
          childCount
        }
      }
    }
  }
`;
