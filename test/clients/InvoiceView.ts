/** Relay query: an invoice with its totals and a page of its lines. Compiled by test/clients.test.ts. */
declare function graphql(strings: TemplateStringsArray): unknown;

export const invoiceViewQuery = graphql`
  query InvoiceViewQuery($id: ID!) {
    invoice(id: $id) {
      __typename
      ... on QueryInvoiceSuccess {
        data {
          id
          number
          period
          issuedAt
          dueAt
          billedTo
          taxRatePercent
          net {
            amount
            currency
          }
          vat {
            amount
            currency
          }
          total {
            amount
            currency
          }
          pdfPath
          csvPath
          lines(first: 100) {
            edges {
              node {
                lineNo
                customer
                tier1
                tier2
                sku
                description
                quantity
                unitPrice {
                  amount
                  currency
                }
                amount {
                  amount
                  currency
                }
              }
            }
            pageInfo {
              hasNextPage
              endCursor
            }
          }
        }
      }
      ... on Error {
        code
        message
      }
    }
  }
`;
