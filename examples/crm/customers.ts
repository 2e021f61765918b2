/** The example CRM's own data: customers recorded by `addCustomer` (in memory, per process). */
export interface Customer {
  id: string;
  customName: string;
  owner: string;
  ambition: '高' | '中' | '低';
  createdBy: string | undefined;
  followUpTaskId: string | undefined;
  createdAt: number;
}

const customers = new Map<string, Customer>();
let next = 1;

export function recordCustomer(c: Omit<Customer, 'id' | 'createdAt'>): Customer {
  const customer: Customer = { ...c, id: `C${String(next++).padStart(4, '0')}`, createdAt: Date.now() };
  customers.set(customer.id, customer);
  return customer;
}

export function listCustomers(): Customer[] {
  return [...customers.values()];
}
